"""When the optimum cannot be had as asked: the rule-based dispatch and the report of the
soft limits a relaxed plan let give way."""
