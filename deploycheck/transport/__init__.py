"""How deploycheck reaches hosts: persistent shells, tunnels, database sessions, HTTP clients."""
