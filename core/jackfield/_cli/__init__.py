"""Private: see jackfield/__init__.py for the public surface."""
