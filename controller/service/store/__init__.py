"""Reading and writing the store, one module per resource; each write is one transaction."""
