"""The cooperative portal: a member opens, follows, answers, confirms and rates cases."""
