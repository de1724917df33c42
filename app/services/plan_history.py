"""What changed between two versions of a plan (each a snapshot: see plans.snapshot), in words."""
from __future__ import annotations

from app.services.plans import AREA_LABELS, GOAL_STATUS_LABELS, OUTCOME_LABELS, STEP_OWNER_LABELS, STEP_STATUS_LABELS


def _goal_words(goal: dict) -> str:
    return f"“{goal['wants']}”"


def differences(older: dict, newer: dict) -> list[str]:
    """What changed from one snapshot to another, one line per change."""
    lines = []
    if older.get("review_due_on") != newer.get("review_due_on"):
        lines.append(f"Review date: {older.get('review_due_on')} → {newer.get('review_due_on')}")
    if older.get("status") != newer.get("status"):
        lines.append(f"Plan: {older.get('status')} → {newer.get('status')}")
    before = {g["id"]: g for g in older.get("goals", [])}
    after = {g["id"]: g for g in newer.get("goals", [])}
    for goal_id, goal in after.items():
        old = before.get(goal_id)
        if old is None:
            lines.append(f"Goal added ({AREA_LABELS[goal['area']]}): {_goal_words(goal)}")
            old = {"steps": []}
        else:
            for key, label in (("wants", "In their words"), ("how_we_know", "How we will know"),
                               ("target_on", "Target date"), ("area", "Area")):
                if old[key] != goal[key]:
                    lines.append(f"Goal {_goal_words(old)}: {label} “{old[key]}” → “{goal[key]}”")
            if old["status"] != goal["status"]:
                reason = f" ({goal['status_reason']})" if goal.get("status_reason") else ""
                lines.append(f"Goal {_goal_words(goal)}: {GOAL_STATUS_LABELS[old['status']]} → "
                             f"{GOAL_STATUS_LABELS[goal['status']]}{reason}")
            if old.get("outcome") != goal.get("outcome") and goal.get("outcome"):
                lines.append(f"Goal {_goal_words(goal)}: at exit {OUTCOME_LABELS[goal['outcome']]}")
        old_steps = {s["id"]: s for s in old["steps"]}
        for step in goal["steps"]:
            was = old_steps.get(step["id"])
            if was is None:
                status = "" if step["status"] == "not_started" else f", {STEP_STATUS_LABELS[step['status']]}"
                lines.append(f"Step added to {_goal_words(goal)}: {step['what']} "
                             f"({STEP_OWNER_LABELS[step['owner']]}{status})")
            elif was["status"] != step["status"]:
                lines.append(f"Step “{step['what']}”: {STEP_STATUS_LABELS[was['status']]} → "
                             f"{STEP_STATUS_LABELS[step['status']]}")
    return lines
