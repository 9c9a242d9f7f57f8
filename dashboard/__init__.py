"""The Panel app, its state object, views and static figures."""
