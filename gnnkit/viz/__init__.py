"""Plotly figures, ipywidget dashboards and the HTML report."""
