"""Adapters that put rlvr rewards into other trainers (TRL, verl)."""
