-- A real uWSGI node with the Lua plugin for the interop tests: uwsgo calls luafn.
uwsgi.register_rpc("luafn", function(a) return "lua:" .. a end)
uwsgi.register_rpc("luacat", function(a, b) return a .. "/" .. b end)
