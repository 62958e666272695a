"""Inventories and the variables controls read: hosts, groups, merged variables, connections."""
