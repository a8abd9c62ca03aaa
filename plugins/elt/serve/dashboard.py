"""The dashboard (`elt dashboard`): one page per domain over `marts` and `audit`, the data quality page first."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).parent / "views"
# (module, title, icon): the operator's first look comes first
PAGES = (
    ("quality", "Data quality", ":material/fact_check:"),
    ("vouchers", "Vouchers", ":material/redeem:"),
    ("customers", "Customer segments", ":material/groups:"),
    ("electronics", "Electronics", ":material/devices:"),
    ("store_orders", "Store orders", ":material/storefront:"),
    ("subscriptions", "Subscriptions", ":material/autorenew:"),
)


def main() -> None:
    """Lay out the app and run the chosen page."""
    st.set_page_config(page_title="E-commerce marts", page_icon=":material/monitoring:", layout="wide")
    pages = [
        st.Page(VIEWS / f"{name}.py", title=title, icon=icon, url_path=name, default=index == 0)
        for index, (name, title, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    st.sidebar.caption("Reads `marts` and `audit` as the analyst role (read-only).")
    page.run()


if __name__ == "__main__":
    main()
