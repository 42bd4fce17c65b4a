"""The explorer: `streamlit run explorer.py`. A router only; each page lives in app_pages/."""

import streamlit as st

from app_pages._shared import sandbox_notice


def main() -> None:
    st.set_page_config(page_title="PLM map — pre-trained language models", page_icon="🗺️", layout="wide")
    pages = {
        "Explore": [
            st.Page("app_pages/graph.py", title="Graph", icon=":material/hub:", default=True),
            st.Page("app_pages/node.py", title="Node", icon=":material/article:"),
            st.Page("app_pages/trace.py", title="Trace", icon=":material/route:"),
            st.Page("app_pages/questions.py", title="Questions", icon=":material/quiz:"),
        ],
        "Compare": [
            st.Page("app_pages/compare.py", title="Compare", icon=":material/table_chart:"),
            st.Page("app_pages/timeline.py", title="Family tree", icon=":material/account_tree:"),
        ],
        "Query and check": [
            st.Page("app_pages/sparql.py", title="SPARQL", icon=":material/terminal:"),
            st.Page("app_pages/verify.py", title="Verify", icon=":material/fact_check:"),
        ],
    }
    page = st.navigation(pages)
    if page.url_path == "" and "node" in st.query_params:  # /?node=X is the permalink's short form
        st.switch_page("app_pages/node.py", query_params={"node": st.query_params["node"]})
    sandbox_notice()  # on every page, when the operator turned the query sandbox off
    with st.sidebar:
        st.caption("The survey of pre-trained language models (ELMo → GPT → BERT → XLNet) as a knowledge "
                   "graph: browse it, query it, trace why each model exists, and run the demos that check "
                   "its claims.")
    page.run()


if __name__ == "__main__":
    main()
