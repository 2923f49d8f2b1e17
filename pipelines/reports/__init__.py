"""The periodic 政治生态分析研判 report (`zhengtai report`) and the helpers of the deep-dive notebooks.

Modules, in the order a report is made:
  source    opens a built warehouse read-only, resolves the period and the team
  queries   the report's own SQL (ledger counts for the special, four-winds and evidence sections);
            everything the dashboard already computes is read through pipelines.board
  facts     every figure of the report, gathered once into plain data (no wording)
  wording   the Chinese text: section titles and sentence templates
  compose   facts + wording → a document (headings, paragraphs, tables, figures)
  charts    matplotlib figures with a CJK font
  document  the document model and its renderers: docx (python-docx), pdf (WeasyPrint), html, md
  deep_dive helpers the notebooks share: find or build a warehouse, rebuild the index by other recipes
"""
