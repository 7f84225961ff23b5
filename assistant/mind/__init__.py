"""Sleep-time cognition: the agenda, the planner, work handlers and the SleepRunner."""
