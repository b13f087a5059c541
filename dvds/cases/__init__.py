"""Cases as every client sees them: starting, submitting tasks, reading, finding."""
