"""Gmail through its REST API: a mail source (`gmail:ACCOUNT`) and inbox actions by labels."""
