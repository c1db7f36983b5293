+ azrender 0.1.0 .
PYTHONPATH +:= .
MAYA_SCRIPT_PATH +:= scripts
