"""The one fit loop and the tasks it drives."""
