"""One blueprint per area: parse input, call a service, render or redirect."""
