/* version.h: the luaworker version, one place. */
#ifndef LW_VERSION_H
#define LW_VERSION_H
#define LW_VERSION "0.1.0"
#endif
