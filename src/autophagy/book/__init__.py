"""What only the chapters use: glue into the prose, claim cards and the loop's diagrams."""
