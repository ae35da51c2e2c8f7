"""Whether each part the product depends on works now, not only whether it is set up."""
