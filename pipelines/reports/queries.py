"""The report's own SQL, over a built warehouse attached read-only (schema `snap`).

Everything the dashboard already computes (scores, trend, warnings, portraits, a unit's contributions,
sensitivity, coherence) is read through pipelines.board; what is here is what only the report needs:
the period's indicator values and contributions of every visible unit at once, the records behind the
warnings counted per ledger, and county-wide ledger counts for the special-supervision and four-winds
sections. Like the board's queries, every query that names units is scoped by the CTE `visible`
($teams VARCHAR[], $all_teams BOOLEAN). Periods are windows [$start, $end) of record dates.
"""

from __future__ import annotations

VISIBLE = "visible AS (SELECT unit_name, sector, team FROM units WHERE $all_teams OR list_contains($teams, team))"

SQL: dict[str, str] = {
    # Every indicator value of the visible units in one period, with its catalogue entry.
    "period_values": f"""
        WITH {VISIBLE}
        SELECT iv.unit_name, v.sector, iv.indicator_id, c.name_zh, c.dimension, c.dimension_zh, c.unit,
               coalesce(c.context, false) AS context, iv.numerator, iv.denominator, iv.value, iv.sample,
               iv.status, iv.percentile, iv.flagged
        FROM indicator_values iv
        JOIN visible v USING (unit_name)
        JOIN indicator_catalogue c ON c.build_id = iv.build_id AND c.indicator_id = iv.indicator_id
        WHERE iv.build_id = $build AND iv.grain = $grain AND iv.period = $period
        ORDER BY iv.unit_name, iv.indicator_id""",

    # How each indicator adds to each visible unit's index in one period.
    "period_contributions": f"""
        WITH {VISIBLE}
        SELECT ct.unit_name, ct.indicator_id, c.name_zh, ct.dimension, c.dimension_zh, ct.contribution
        FROM contributions ct
        JOIN visible v USING (unit_name)
        JOIN indicator_catalogue c ON c.build_id = ct.build_id AND c.indicator_id = ct.indicator_id
        WHERE ct.build_id = $build AND ct.grain = $grain AND ct.period = $period""",

    # The portraits of the visible units in one period (summary and drivers, as the build wrote them).
    "period_portraits": f"""
        WITH {VISIBLE}
        SELECT po.unit_name, po.summary, po.drivers::VARCHAR AS drivers
        FROM portraits po
        JOIN visible v USING (unit_name)
        WHERE po.build_id = $build AND po.grain = $grain AND po.period = $period""",

    # Distinct ledger records behind each visible unit's warnings of the period, per ledger.
    "evidence_counts": f"""
        WITH {VISIBLE}
        SELECT w.unit_name, e.source_table, count(DISTINCT e.record_key) AS records
        FROM warning_evidence e
        JOIN warnings w ON w.build_id = e.build_id AND w.warning_id = e.warning_id
        JOIN visible v ON v.unit_name = w.unit_name
        WHERE e.build_id = $build AND w.grain = $grain AND w.period = $period
        GROUP BY ALL
        ORDER BY w.unit_name, e.source_table""",

    # Petitions of the period by special supervision area: received, substantiated (属实/部分属实),
    # unfounded (不属实/查无实据/诬告陷害), still open, and how many units they concern; the row with
    # area NULL is the total over all areas (a unit named under two areas counts once there).
    "special_areas": f"""
        WITH {VISIBLE}
        SELECT p.special_area AS area, count(*) AS petitions,
               count(*) FILTER (WHERE p.outcome IN ('属实', '部分属实')) AS substantiated,
               count(*) FILTER (WHERE p.outcome IN ('不属实', '查无实据', '诬告陷害')) AS unfounded,
               count(*) FILTER (WHERE p.outcome IS NULL) AS open,
               count(DISTINCT p.unit_name) AS units
        FROM petitions p
        JOIN visible v USING (unit_name)
        WHERE p.special_area IS NOT NULL AND p.received_date >= $start AND p.received_date < $end
        GROUP BY GROUPING SETS ((p.special_area), ())
        ORDER BY area NULLS LAST, petitions DESC""",

    # 四风 and their hidden variants in the period: petitions received and cases closed, by type.
    "fourwinds": f"""
        WITH {VISIBLE},
        recs AS (
            SELECT '信访举报' AS source, p.unit_name, p.fourwinds, p.hidden_variant
            FROM petitions p JOIN visible v USING (unit_name)
            WHERE p.received_date >= $start AND p.received_date < $end
              AND (p.fourwinds IS NOT NULL OR p.hidden_variant IS NOT NULL)
            UNION ALL
            SELECT '执纪处理', c.unit_name, c.fourwinds, c.hidden_variant
            FROM cases c JOIN visible v USING (unit_name)
            WHERE c.closed_date >= $start AND c.closed_date < $end
              AND (c.fourwinds IS NOT NULL OR c.hidden_variant IS NOT NULL)
        )
        SELECT source, coalesce(fourwinds, '未归类') AS fourwinds, hidden_variant,
               count(*) AS records, count(DISTINCT unit_name) AS units
        FROM recs
        GROUP BY ALL
        ORDER BY source DESC, records DESC, fourwinds, hidden_variant""",

    # Records of each ledger dated in the period for the visible units (the evidence base of the report).
    "ledger_records": f"""
        WITH {VISIBLE}
        SELECT kind, count(*) AS records, count(DISTINCT unit_name) AS units FROM (
            SELECT '信访举报' AS kind, unit_name, received_date AS d FROM petitions
            UNION ALL SELECT '巡察问题', unit_name, feedback_date FROM inspection_findings
            UNION ALL SELECT '审计问题', unit_name, report_date FROM audit_findings
            UNION ALL SELECT '执纪处理', unit_name, closed_date FROM cases
            UNION ALL SELECT '谈话函询', unit_name, start_date FROM inquiries
            UNION ALL SELECT '三重一大报备', unit_name, decision_date FROM major_decisions
            UNION ALL SELECT '主体责任检查', unit_name, check_date FROM responsibility_checks
        ) t
        JOIN visible v USING (unit_name)
        WHERE d >= $start AND d < $end
        GROUP BY kind
        ORDER BY kind""",

    # Rows the ingest refused, per ledger kind (a data-quality caveat of the report).
    "rejected_by_kind": """
        SELECT kind, count(*) AS rows FROM rejected_rows GROUP BY kind ORDER BY kind""",

    # The 派驻组 teams, for --team.
    "teams": """
        SELECT team, count(*) AS units FROM units GROUP BY team ORDER BY team""",
}
