"""Background jobs: one job base (`base.Job`, and `base.CallJob` for a single core call), a manager,
and the jobs the app runs, by subject (`vault_jobs`, `library_jobs`, `people_jobs`, `share_jobs`,
`leak_jobs`, `key_jobs`, `immunize_jobs`; `pictures` makes the images they hand over)."""

from app import qtcompat as _qtcompat  # noqa: F401 - see qtcompat: a binding bug on some versions
