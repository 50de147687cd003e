"""The Flask HTTP API over the ranking engine and the graph."""
