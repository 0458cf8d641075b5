"""Neural-network layers: every array field and every call is shape-annotated."""

# --- linear, recurrent, embedding, attention layers ---
# --- convolutions and pooling ---
# --- normalisation, state and wrappers ---

__all__: list[str] = []
# --- __all__ additions ---
