"""The dashboard's pages, one module per domain; each is a Streamlit page script with a `render()` function."""
