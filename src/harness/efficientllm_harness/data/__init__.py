"""Data bundled with the harness. Kept as Python modules: the build copies and the targets upload
only the package's .py files (scripts/build.mjs), and a module needs no path lookups at run time."""
