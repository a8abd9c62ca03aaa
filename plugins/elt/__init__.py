"""E-commerce ELT platform library."""
