"""Installing luaworker (issue 5, section 1): `make install DESTDIR=...`
gives a tree that a stock lua5.4 requires from with only LUA_PATH/LUA_CPATH
pointed at it, with a working command and its man page; `make uninstall`
removes it; `luarocks make --local` (the rockspec, build type make) builds
and installs into a fresh HOME's rocks tree, offline; and the man page
documents every option of `luaworker --help`."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from spec.e2e.util import BIN, ROOT

MAN = os.path.join(ROOT, "doc", "luaworker.1")
ROCKSPEC = "luaworker-0.1.0-1.rockspec"
EXAMPLE = os.path.join(ROOT, "examples", "resize.lua")
REQUIRE = ('local lw = require "luaworker"\n'
           'assert(lw.json.encode(lw.json.decode("[12345678901234567]")) == "[12345678901234567]")\n'
           'assert(type(lw.worker) == "function" and type(lw.monotonic()) == "number")\n'
           'print(lw.VERSION)\n'
           'print(package.searchpath("luaworker", package.path))\n'
           'print(package.searchpath("luaworker.core", package.cpath))\n')


def clean_env(**extra):
    """The environment without make's or Lua's own settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "LUA_PATH", "LUA_CPATH",
                        "LUA_PATH_5_4", "LUA_CPATH_5_4", "LUA_INIT", "LUA_INIT_5_4")}
    env.update(extra)
    return env


def run(argv, **kw):
    kw.setdefault("timeout", 300)
    return subprocess.run(argv, capture_output=True, text=True, **kw)


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="lw-install-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def check_require(self, env, where):
        """Require luaworker from a directory with no luaworker in it."""
        p = run(["lua5.4", "-e", REQUIRE], env=env, cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        version, lua_file, so_file = p.stdout.split("\n")[:3]
        self.assertRegex(version, r"^\d+\.\d+\.\d+$")
        self.assertEqual(lua_file, os.path.join(where["lua"], "luaworker", "init.lua"))
        self.assertEqual(so_file, os.path.join(where["lib"], "luaworker", "core.so"))
        return version

    def check_command(self, path, version):
        p = run([path, "--version"], env=clean_env(), cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split()[:2], ["luaworker", version])
        p = run([path, "invoke", EXAMPLE, "--input", '{"width":100,"steps":1,"step_seconds":0.01}'],
                env=clean_env(), cwd=self.tmp, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout.splitlines()[-1], 'completed: {"height":0,"width":50}')

    def test_make_install_destdir_and_uninstall(self):
        dest = os.path.join(self.tmp, "dest")
        p = run(["make", "-s", "install", "DESTDIR=" + dest], cwd=ROOT, env=clean_env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        prefix = dest + "/usr/local"
        lua_dir, lib_dir = prefix + "/share/lua/5.4", prefix + "/lib/lua/5.4"
        installed = sorted(os.path.relpath(os.path.join(d, f), prefix)
                           for d, _, files in os.walk(dest) for f in files)
        lua_files = sorted("share/lua/5.4/luaworker/" + f
                           for f in os.listdir(os.path.join(ROOT, "lua", "luaworker")) if f.endswith(".lua"))
        self.assertEqual(installed, sorted(["bin/luaworker", "lib/lua/5.4/luaworker/core.so",
                                            "share/man/man1/luaworker.1"] + lua_files))
        self.assertTrue(os.access(prefix + "/bin/luaworker", os.X_OK))
        # The paths of a stock lua5.4 for PREFIX=/usr/local, moved under DESTDIR, and nothing else.
        env = clean_env(LUA_PATH=f"{lua_dir}/?.lua;{lua_dir}/?/init.lua;;", LUA_CPATH=f"{lib_dir}/?.so;;")
        version = self.check_require(env, {"lua": lua_dir, "lib": lib_dir})
        self.check_command(prefix + "/bin/luaworker", version)
        with open(prefix + "/share/man/man1/luaworker.1") as f, open(MAN) as g:
            self.assertEqual(f.read(), g.read())

        p = run(["make", "-s", "uninstall", "DESTDIR=" + dest], cwd=ROOT, env=clean_env())
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        left = [os.path.join(d, f) for d, _, files in os.walk(dest) for f in files]
        self.assertEqual(left, [])
        self.assertFalse(os.path.exists(lua_dir + "/luaworker"))

    def test_luarocks_make_local(self):
        # A copy of the sources without build/: luarocks runs the whole build.
        src = os.path.join(self.tmp, "src")
        os.makedirs(src)
        for name in ("Makefile", ROCKSPEC):
            shutil.copy2(os.path.join(ROOT, name), src)
        for name in (".luarocks", "lua_modules", "runtime", "lua", "tools", "doc"):
            shutil.copytree(os.path.join(ROOT, name), os.path.join(src, name),
                            ignore=shutil.ignore_patterns("__pycache__"))
        home = os.path.join(self.tmp, "home")
        os.makedirs(home)
        env = clean_env(HOME=home, MAKEFLAGS="-j2")
        p = run(["luarocks", "make", "--local"], cwd=src, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("luaworker 0.1.0-1 is now installed in " + home + "/.luarocks", p.stdout)
        # eval $(luarocks path), from the checkout (where Lua 5.4 is the project's default)
        p = run(["luarocks", "path"], cwd=src, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        exports = dict(re.findall(r"^export (\w+)='([^']*)'$", p.stdout, re.M))
        tree = home + "/.luarocks"
        self.assertIn(tree + "/share/lua/5.4/?.lua", exports["LUA_PATH"].split(";"))
        self.assertIn(tree + "/lib/lua/5.4/?.so", exports["LUA_CPATH"].split(";"))
        version = self.check_require(clean_env(HOME=home, LUA_PATH=exports["LUA_PATH"],
                                               LUA_CPATH=exports["LUA_CPATH"]),
                                     {"lua": tree + "/share/lua/5.4", "lib": tree + "/lib/lua/5.4"})
        self.check_command(tree + "/bin/luaworker", version)
        self.assertEqual(os.listdir(os.path.join(src, "lua_modules")), [".gitignore"])   # --local: the user tree


class ManPageTest(unittest.TestCase):
    def options(self, text):
        return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", text))

    def test_every_option_of_help_is_in_the_man_page(self):
        p = run([BIN, "--help"], timeout=30)
        self.assertEqual(p.returncode, 0)
        in_help = self.options(p.stdout)
        self.assertGreater(len(in_help), 25)
        with open(MAN) as f:
            roff = f.read()
        section = roff[roff.index(".SH OPTIONS"):roff.index(".SH ENVIRONMENT")]
        in_man = self.options(section.replace("\\-", "-").replace("\\%", ""))
        self.assertEqual(sorted(in_help - in_man), [], "options of --help missing from the man page")
        self.assertEqual(sorted(in_man - in_help), [], "options in the man page that --help does not list")
        # and each has its own entry (a .TP tag line), not only a mention
        tags = self.options("\n".join(line for line in section.replace("\\-", "-").splitlines()
                                      if line.startswith((".B ", ".BI ", ".BR "))))
        self.assertEqual(sorted(in_help - tags), [])

    def test_sections(self):
        with open(MAN) as f:
            roff = f.read()
        heads = re.findall(r"^\.SH (.+)$", roff, re.M)
        self.assertEqual(heads, ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT",
                                 "EXIT STATUS", "FILES", "EXAMPLES", "SEE ALSO"])
