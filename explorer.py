"""The explorer: `streamlit run explorer.py`. A router only; each page lives in app_pages/."""

import streamlit as st

from app_pages._shared import freeze_what_is_loaded, sandbox_notice
from app_pages.i18n import language_switch, remember_language, t


def main() -> None:
    remember_language()   # first: ?lang=, the session's choice or the browser's, kept in the address
    st.set_page_config(page_title=t("app.page_title"), page_icon="🗺️", layout="wide")
    pages = {
        t("app.section_explore"): [
            st.Page("app_pages/graph.py", title=t("app.nav_graph"), icon=":material/hub:", default=True),
            st.Page("app_pages/node.py", title=t("app.nav_node"), icon=":material/article:"),
            st.Page("app_pages/trace.py", title=t("app.nav_trace"), icon=":material/route:"),
            st.Page("app_pages/questions.py", title=t("app.nav_questions"), icon=":material/quiz:"),
        ],
        t("app.section_compare"): [
            st.Page("app_pages/compare.py", title=t("app.nav_compare"), icon=":material/table_chart:"),
            st.Page("app_pages/timeline.py", title=t("app.nav_family_tree"), icon=":material/account_tree:"),
        ],
        t("app.section_query"): [
            st.Page("app_pages/sparql.py", title=t("app.nav_sparql"), icon=":material/terminal:"),
            st.Page("app_pages/verify.py", title=t("app.nav_verify"), icon=":material/fact_check:"),
        ],
    }
    page = st.navigation(pages)
    if page.url_path == "" and "node" in st.query_params:  # /?node=X is the permalink's short form
        st.switch_page("app_pages/node.py", query_params={"node": st.query_params["node"]})
    sandbox_notice()  # on every page, when the operator turned the query sandbox off
    with st.sidebar:
        language_switch()
        st.caption(t("app.about"))
    page.run()
    freeze_what_is_loaded()


if __name__ == "__main__":
    main()
