"""Science on arrays, frames and tensors: MDNs, staged inference, distances, cuts and metrics.

Nothing here touches a file path or a widget (docs/architecture.md, "Layers").
"""
