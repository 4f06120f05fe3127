"""The park's own network in the plan: linear rows about the rule-based dispatch and their
tightening where the AC check finds a limit broken."""
