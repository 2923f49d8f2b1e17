-- Macros that write numbers and periods in Chinese, for the warning messages and portrait summaries.
-- Temp macros belong to a connection: run this on every connection that writes text.

-- How a value is shown in Chinese text: shares as percentages, counts as whole numbers, the rest with their unit
-- and at most two decimals, trailing zeros dropped (16件/年, not 16.00件/年).
CREATE OR REPLACE TEMP MACRO show_value(v, unit) AS
    CASE WHEN v IS NULL THEN '—'
         WHEN unit = '比例' THEN printf('%.1f%%', v * 100)
         WHEN unit IN ('件', '个', '条', '次', '个渠道', '人') THEN printf('%d', round(v)::BIGINT) || unit
         ELSE regexp_replace(printf('%.2f', v), '\.?0+$', '') || unit END;

-- A period key in Chinese: 2024-03 → 2024年3月, 2024Q1 → 2024年第1季度, 2024H1 → 2024年上半年, 2024 → 2024年,
-- R12-2024-03 → 截至2024年3月的12个月.
CREATE OR REPLACE TEMP MACRO period_zh(p) AS
    CASE WHEN p LIKE 'R12-%' THEN '截至' || substr(p, 5, 4) || '年' || substr(p, 10, 2)::INTEGER || '月的12个月'
         WHEN p LIKE '%Q%' THEN split_part(p, 'Q', 1) || '年第' || split_part(p, 'Q', 2) || '季度'
         WHEN p LIKE '%H1' THEN substr(p, 1, 4) || '年上半年'
         WHEN p LIKE '%H2' THEN substr(p, 1, 4) || '年下半年'
         WHEN p LIKE '____-__' THEN substr(p, 1, 4) || '年' || substr(p, 6, 2)::INTEGER || '月'
         ELSE p || '年' END;
