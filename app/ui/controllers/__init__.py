"""The main window's work by subject: each controller owns its signal connections, jobs and
dialogs, and talks to the window (views, status bar, what is shown) rather than to the others."""
