"""State shared by every worker and instance of `jackfield serve` through Redis (optional)."""
