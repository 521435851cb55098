-- lw.json: the jansson-backed codec (runtime/ljson.c).
-- Run: lua5.4 spec/tools/run_lua.lua spec/json_spec.lua (after make build-all)
local lu = require "luaunit"
local json = require("luaworker.core").json

local function enc(v, opts)
    local s, err = json.encode(v, opts)
    lu.assertNotNil(s, err)
    return s
end

local function dec(s)
    local v, err = json.decode(s)
    lu.assertNotNil(v, err)
    return v
end

-- The error message of a failing call (which must return nil, message).
local function failing(f, ...)
    local v, err = f(...)
    lu.assertNil(v)
    lu.assertIsString(err)
    return err
end

TestJsonNumbers = {}

function TestJsonNumbers:test_big_integers_round_trip()
    for _, n in ipairs({ (1 << 53) + 1, math.maxinteger, math.mininteger, -(1 << 53) - 1, 0, -1 }) do
        local s = enc(n)
        lu.assertEquals(s, string.format("%d", n))
        local back = dec(s)
        lu.assertEquals(math.type(back), "integer")
        lu.assertEquals(back, n)
    end
    lu.assertEquals(enc({ a = 12345678901234567 }), '{"a":12345678901234567}')
    lu.assertEquals(dec("9007199254740993"), 9007199254740993)
    lu.assertEquals(dec('{"id":9223372036854775807}').id, math.maxinteger)
end

function TestJsonNumbers:test_integer_beyond_int64_decodes_as_float_alone()
    local v = dec('{"big":12345678901234567890,"small":7,"neg":-9223372036854775809,"r":2.5}')
    lu.assertEquals(math.type(v.big), "float")
    lu.assertAlmostEquals(v.big, 1.2345678901234567e19, 1e4)
    lu.assertEquals(math.type(v.neg), "float")
    lu.assertEquals(v.neg, -9223372036854775808.0)
    -- the other numbers of the document keep their types
    lu.assertEquals(math.type(v.small), "integer")
    lu.assertEquals(v.small, 7)
    lu.assertEquals(v.r, 2.5)
    lu.assertEquals(enc(dec("[1, 99999999999999999999, 2.0]")), "[1,1e20,2.0]")
    -- a 400-digit integer is beyond any double: an error, not inf
    local err = failing(json.decode, "[" .. string.rep("9", 400) .. "]")
    lu.assertStrContains(err, "overflow")
end

function TestJsonNumbers:test_floats_shortest_round_trip()
    local cases = {
        { 0.1, "0.1" }, { 1.0, "1.0" }, { -0.0, "-0.0" }, { 1e300, "1e300" },
        { 100.0, "100.0" }, { 0.3, "0.3" }, { 1 / 3, "0.3333333333333333" },
        { 1e15, "1000000000000000.0" }, { 1e16, "1e16" }, { 2.0^53, "9007199254740992.0" },
        { 1e-5, "1e-5" }, { 0.0001, "0.0001" }, { 5e-324, "5e-324" }, { -1.5e-7, "-1.5e-7" },
        { 123.456, "123.456" }, { 1.7976931348623157e308, "1.7976931348623157e308" },
    }
    for _, c in ipairs(cases) do
        lu.assertEquals(enc(c[1]), c[2])
        local back = dec(c[2])
        lu.assertEquals(math.type(back), "float")
        lu.assertEquals(string.pack("<d", back), string.pack("<d", c[1]), c[2])
    end
    lu.assertEquals(1 / dec("-0.0"), -math.huge)
end

function TestJsonNumbers:test_random_doubles_round_trip_bit_exact()
    math.randomseed(42)
    for _ = 1, 5000 do
        local x = string.unpack("<d", string.pack("<I4I4", math.random(0, 0xffffffff),
                                                   math.random(0, 0xffffffff)))
        if x == x and x ~= math.huge and x ~= -math.huge then
            local s = enc(x)
            local back = dec(s)
            lu.assertEquals(math.type(back), "float")
            lu.assertEquals(string.pack("<d", back), string.pack("<d", x), s)
        end
    end
end

function TestJsonNumbers:test_numbers_ignore_a_comma_decimal_locale()
    -- a host application may set LC_NUMERIC; JSON numbers always use '.'
    local old = os.setlocale(nil, "numeric")
    local set = os.setlocale("de_DE.UTF-8", "numeric") or os.setlocale("fr_FR.UTF-8", "numeric")
    local ok, err = pcall(function()
        lu.assertEquals(enc({ 0.1, 1.5, 1e300, 100.0, -2.5e-7 }), "[0.1,1.5,1e300,100.0,-2.5e-7]")
        local v = dec("[0.25, 1e-7, 3]")
        lu.assertEquals(v[1], 0.25)
        lu.assertEquals(v[2], 1e-7)
        lu.assertEquals(math.type(v[3]), "integer")
    end)
    os.setlocale(old, "numeric")
    assert(ok, err)
    if set then
        lu.assertEquals(string.format("%.1f", 1.5), "1.5")    -- restored
    end
end

function TestJsonNumbers:test_nan_and_infinity_refused()
    lu.assertStrContains(failing(json.encode, 0 / 0), "NaN")
    lu.assertStrContains(failing(json.encode, { x = math.huge }), "cannot encode inf at $.x")
    lu.assertStrContains(failing(json.encode, { -math.huge }), "-inf at $[1]")
end

TestJsonStrings = {}

function TestJsonStrings:test_nul_utf8_and_escapes()
    local s = "a\0b \"q\" \\ / \n\t\r\b\f \1\31 é ✓ 😀 \u{2028}"
    local text = enc(s)
    lu.assertStrContains(text, "\\u0000")
    lu.assertStrContains(text, "\\\"q\\\"")
    lu.assertStrContains(text, "é ✓ 😀")       -- UTF-8 kept, not \u-escaped
    lu.assertEquals(dec(text), s)
    lu.assertEquals(dec('"\\u00e9\\ud83d\\ude00\\u0000x"'), "é😀\0x")
    lu.assertEquals(#dec('"\\u0000"'), 1)
end

function TestJsonStrings:test_invalid_utf8_is_an_error_naming_the_path()
    local err = failing(json.encode, { a = { "ok", "bad\xffbyte" } })
    lu.assertStrContains(err, "invalid UTF-8 in string")
    lu.assertStrContains(err, "byte 4")
    lu.assertStrContains(err, "at $.a[2]")
    for _, bad in ipairs({ "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80" }) do
        lu.assertStrContains(failing(json.encode, bad), "invalid UTF-8")
    end
    lu.assertStrContains(failing(json.encode, { ["k\xff"] = 1 }), "invalid UTF-8 in key")
    -- invalid input text
    lu.assertStrContains(failing(json.decode, '"\xff"'), "invalid JSON")
end

function TestJsonStrings:test_invalid_utf8_replace_option()
    lu.assertEquals(enc("a\xffb", { invalid_utf8 = "replace" }), '"a\u{FFFD}b"')
    lu.assertEquals(enc({ ["k\xfe"] = "v\xc3" }, { invalid_utf8 = "replace" }),
                    '{"k\u{FFFD}":"v\u{FFFD}"}')
    lu.assertEquals(enc("é", { invalid_utf8 = "replace" }), '"é"')
    lu.assertErrorMsgContains("invalid_utf8", json.encode, "x", { invalid_utf8 = "drop" })
end

TestJsonTables = {}

function TestJsonTables:test_empty_array_vs_empty_object()
    lu.assertEquals(enc({}), "{}")
    lu.assertEquals(enc(json.array()), "[]")
    lu.assertEquals(enc(json.array({})), "[]")
    lu.assertEquals(enc(json.object({})), "{}")
    lu.assertEquals(enc(dec("[]")), "[]")
    lu.assertEquals(enc(dec("{}")), "{}")
    lu.assertEquals(enc(dec('{"a":[],"b":{},"c":[[]]}')), '{"a":[],"b":{},"c":[[]]}')
    lu.assertTrue(json.is_array(dec("[]")))
    lu.assertFalse(json.is_array(dec("{}")))
    lu.assertTrue(json.is_array({ 1, 2 }))
    lu.assertFalse(json.is_array({}))
    lu.assertFalse(json.is_array({ 1, nil, 3 }))
    lu.assertFalse(json.is_array("x"))
end

function TestJsonTables:test_nested_round_trip_is_identical()
    local text = '{"a":[1,2.5,"x",true,false,null,{"b":[]}],"c":{"d":{"e":[{"f":-3}]}},'
              .. '"g":"","h":0}'
    lu.assertEquals(enc(dec(text)), text)
    local v = dec(text)
    lu.assertEquals(v.c.d.e[1].f, -3)
    lu.assertEquals(v.a[6], json.null)
end

function TestJsonTables:test_null_keeps_array_positions()
    local v = dec("[1,null,3,null]")
    lu.assertEquals(#v, 4)
    lu.assertEquals(v[2], json.null)
    lu.assertEquals(v[4], json.null)
    lu.assertEquals(enc(v), "[1,null,3,null]")
    lu.assertEquals(enc({ 1, json.null, 3 }), "[1,null,3]")
    lu.assertEquals(dec('{"a":null}').a, json.null)
end

function TestJsonTables:test_keys_sorted_by_default_and_pretty()
    local t = { zeta = 1, alpha = { 2, 3 }, mid = { b = true, a = false } }
    lu.assertEquals(enc(t), '{"alpha":[2,3],"mid":{"a":false,"b":true},"zeta":1}')
    lu.assertEquals(enc(t, { pretty = true }),
        '{\n  "alpha": [\n    2,\n    3\n  ],\n  "mid": {\n    "a": false,\n    "b": true\n  },\n'
        .. '  "zeta": 1\n}')
    local unsorted = enc(t, { sort_keys = false })
    lu.assertEquals(#unsorted, #enc(t))
    lu.assertEquals(enc(dec(unsorted)), enc(t))
end

function TestJsonTables:test_sparse_mixed_and_bad_keys_name_the_key()
    lu.assertStrContains(failing(json.encode, { a = { 1, 2, nil, 4 } }),
                         "sparse array (key 4 with only 3 elements) at $.a")
    lu.assertStrContains(failing(json.encode, { [2] = "x" }), "key 2")
    local err = failing(json.encode, { x = { 1, 2, name = "n" } })
    lu.assertStrContains(err, 'string key "name" and integer key')
    lu.assertStrContains(err, "at $.x")
    lu.assertStrContains(failing(json.encode, { [true] = 1 }), "key true")
    lu.assertStrContains(failing(json.encode, { [1.5] = 1 }), "key 1.5")
    lu.assertStrContains(failing(json.encode, { [0] = 1 }), "key 0")
    lu.assertStrContains(failing(json.encode, { [{}] = 1 }), "key of type table")
    lu.assertStrContains(failing(json.encode, json.array({ a = 1 })), 'array-marked table with key "a"')
end

function TestJsonTables:test_object_marked_number_keys_use_tostring()
    lu.assertEquals(enc(json.object({ [1] = "a", [5] = "b" })), '{"1":"a","5":"b"}')
    lu.assertEquals(enc(json.object({ [2.5] = true })), '{"2.5":true}')
    lu.assertStrContains(failing(json.encode, json.object({ [1] = "a", ["1"] = "b" })),
                         'two keys both become "1"')
    lu.assertStrContains(failing(json.encode, json.object({ [false] = 1 })), "key false")
end

function TestJsonTables:test_marks()
    local t = {}
    lu.assertIs(json.array(t), t)
    lu.assertTrue(json.is_array(t))
    json.object(t)                            -- re-marking is allowed
    lu.assertEquals(enc(t), "{}")
    local classy = setmetatable({}, { __index = {} })
    lu.assertErrorMsgContains("metatable", json.array, classy)
    local own = setmetatable({}, { __jsontype = "array" })
    lu.assertEquals(enc(own), "[]")
    lu.assertEquals(enc(setmetatable({ [1] = 1, [2] = 2 }, { __jsontype = "object" })),
                    '{"1":1,"2":2}')
    lu.assertEquals(getmetatable(dec("[]")).__jsontype, "array")
end

function TestJsonTables:test_unencodable_values_name_type_and_path()
    lu.assertEquals(failing(json.encode, { a = { 1, { b = print } } }),
                    "cannot encode function at $.a[2].b")
    lu.assertStrContains(failing(json.encode, { co = coroutine.create(print) }),
                         "cannot encode thread at $.co")
    lu.assertStrContains(failing(json.encode, { io.stdout }), "cannot encode userdata at $[1]")
    lu.assertStrContains(failing(json.encode, { ["a b"] = { ["x\"y"] = print } }),
                         '$["a b"]["x\\x22y"]')
    lu.assertStrContains(failing(json.encode, print), "at $")
end

function TestJsonTables:test_cycles_are_errors()
    local t = { a = {} }
    t.a.back = t
    lu.assertStrContains(failing(json.encode, t), "cycle")
    lu.assertStrContains(failing(json.encode, t), "at $.a.back")
    local arr = {}
    arr[1] = arr
    lu.assertStrContains(failing(json.encode, arr), "reference cycle (table contains itself) at $[1]")
    -- the same table twice is not a cycle
    local shared = { 1 }
    lu.assertEquals(enc({ a = shared, b = shared, c = { shared } }), '{"a":[1],"b":[1],"c":[[1]]}')
end

TestJsonScalarsAndMisuse = {}

function TestJsonScalarsAndMisuse:test_top_level_scalars()
    lu.assertEquals(enc("x"), '"x"')
    lu.assertEquals(enc(true), "true")
    lu.assertEquals(enc(nil), "null")
    lu.assertEquals(enc(json.null), "null")
    lu.assertEquals(dec('"x"'), "x")
    lu.assertEquals(dec(" 42 "), 42)
    lu.assertEquals(dec("false"), false)
    lu.assertEquals(dec("null"), json.null)
end

function TestJsonScalarsAndMisuse:test_invalid_json_returns_message_with_position()
    local err = failing(json.decode, '{"a":1,}')
    lu.assertStrContains(err, "line 1, column 8")
    lu.assertStrContains(failing(json.decode, '{\n  "a": tru\n}'), "line 2")
    lu.assertStrContains(failing(json.decode, ""), "invalid JSON")
    lu.assertStrContains(failing(json.decode, "[1] x"), "end of file expected")
    lu.assertStrContains(failing(json.decode, "[1e400]"), "overflow")
    lu.assertStrContains(failing(json.decode, '{"a\\u0000b":1}'), "NUL")
    lu.assertStrContains(failing(json.decode, "[1,\0]"), "invalid JSON")
    -- bad input never raises
    lu.assertTrue(pcall(json.decode, "{"))
end

function TestJsonScalarsAndMisuse:test_misuse_raises()
    lu.assertErrorMsgContains("string expected", json.decode, 123)
    lu.assertErrorMsgContains("string expected", json.decode)
    lu.assertErrorMsgContains("value expected", json.encode)
    lu.assertErrorMsgContains("unknown option 'indent'", json.encode, {}, { indent = 2 })
    lu.assertErrorMsgContains("must be a boolean", json.encode, {}, { pretty = "yes" })
    lu.assertErrorMsgContains("table expected", json.encode, {}, "pretty")
    lu.assertErrorMsgContains("table expected", json.array, 5)
end

function TestJsonScalarsAndMisuse:test_cjson_interop()
    local cjson = require("cjson")
    lu.assertTrue(cjson.null == json.null)
    lu.assertEquals(enc(cjson.decode('{"a":["x",null]}')), '{"a":["x",null]}')
    -- what lw.json exists for: cjson turns integers into floats
    lu.assertEquals(math.type(cjson.decode("[1]")[1]), "float")
    lu.assertEquals(math.type(dec("[1]")[1]), "integer")
    lu.assertEquals(cjson.decode(enc({ x = json.null })).x, cjson.null)
end

TestJsonLimits = {}

function TestJsonLimits:test_one_mib_document()
    local parts = {}
    for i = 1, 16000 do
        parts[i] = string.format('{"id":%d,"name":"item-%d","tags":["a","b"],"v":%d.25}', i * 1000003, i, i)
    end
    local text = "[" .. table.concat(parts, ",") .. "]"
    lu.assertTrue(#text > 1024 * 1024)
    local v = dec(text)
    lu.assertEquals(#v, 16000)
    lu.assertEquals(v[16000].id, 16000 * 1000003)
    -- (plain comparisons: luaunit's diff of two 1 MiB strings takes minutes)
    lu.assertTrue(enc(v) == text, "re-encoded text differs")
    -- one string of 1 MiB
    local big = string.rep("é", 512 * 1024)
    lu.assertTrue(dec(enc({ s = big })).s == big, "1 MiB string changed")
end

function TestJsonLimits:test_deep_nesting_is_a_clean_error()
    local deep = string.rep("[", 10000) .. string.rep("]", 10000)
    lu.assertStrContains(failing(json.decode, deep), "depth")
    local t = {}
    local cur = t
    for _ = 1, 10000 do
        cur[1] = {}
        cur = cur[1]
    end
    local err = failing(json.encode, t)
    lu.assertStrContains(err, "nested deeper than 2048 levels")
    lu.assertStrContains(err, "at $...[1]")
end

function TestJsonLimits:test_nesting_at_the_limit_round_trips()
    local text = string.rep("[", 2048) .. string.rep("]", 2048)
    local v = dec(text)
    lu.assertEquals(enc(v), text)
    local wrapped = json.array({ v })     -- one level more than the limit
    lu.assertStrContains(failing(json.encode, wrapped), "nested deeper")
    lu.assertStrContains(failing(json.decode, "[" .. text .. "]"), "depth")
end
