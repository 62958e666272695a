"""The deploycheck plugin is registered through its pytest11 entry point;
this file only keeps pytest's rootdir at the project root."""
