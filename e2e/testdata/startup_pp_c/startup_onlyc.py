# Importable only when startup_pp_c/ is on sys.path.
