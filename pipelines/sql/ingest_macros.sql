-- Cell normalisation and typing macros used by ingestion (pipelines/ingest/normalise.py builds the
-- per-ledger SELECT from them). TEMP macros: defined per connection, nothing persisted in the warehouse.
-- Every macro returns NULL when it cannot read its input; the caller turns that into a rejection reason.

-- Typed cells arrive cleaned (pipelines/ingest/reader.py clean_column): full-width folded, whitespace
-- collapsed, trimmed, empty → NULL; text cells arrive as written and already masked. The macros below only type them.

-- Placeholders analysts type for "nothing" in non-enum columns.
CREATE OR REPLACE TEMP MACRO zt_blank(s) AS
    CASE WHEN s IN ('/', '-', '--', '—', '——', '－', '无', 'NULL', 'null', 'N/A', 'n/a', '#N/A') THEN NULL ELSE s END;

-- 2024年3月5日, 2024/3/5, 2024.03.05, 2024-03-05 (with or without a time), 20240305, Excel serials 20000-80000.
-- The pattern is matched once per cell: list_transform binds its parts to p (3x faster than re-matching).
CREATE OR REPLACE TEMP MACRO zt_date_parts(y, m, d) AS
    CASE WHEN y BETWEEN 1950 AND 2100 THEN try(make_date(y, m, d)) END;
CREATE OR REPLACE TEMP MACRO zt_date_day(s) AS
    CASE WHEN s IS NULL THEN NULL ELSE
    list_transform([regexp_extract(s, '^(\d{4}) ?[年./-] ?(\d{1,2}) ?[月./-] ?(\d{1,2}) ?日?(?:[ T].*)?$', ['y', 'm', 'd'])], lambda p:
        CASE
            WHEN p.y <> '' THEN zt_date_parts(CAST(p.y AS INTEGER), CAST(p.m AS INTEGER), CAST(p.d AS INTEGER))
            WHEN regexp_full_match(s, '\d{8}') THEN zt_date_parts(CAST(substr(s, 1, 4) AS INTEGER), CAST(substr(s, 5, 2) AS INTEGER), CAST(substr(s, 7, 2) AS INTEGER))
            WHEN regexp_full_match(s, '\d{5}(\.0+)?') AND CAST(CAST(s AS DOUBLE) AS INTEGER) BETWEEN 20000 AND 80000
                THEN CAST(DATE '1899-12-30' + CAST(CAST(s AS DOUBLE) AS INTEGER) AS DATE)
        END)[1] END;
-- Month-only dates, as ledgers write them when the day is unknown: 2012年2月, 2012年2月份, 2015/3, 2015-03, 2015.3.
-- Stored as the month's first day; date_precision records that only the month is known.
CREATE OR REPLACE TEMP MACRO zt_date_month(s) AS
    CASE WHEN s IS NULL THEN NULL ELSE
    list_transform([regexp_extract(s, '^(\d{4}) ?(?:年 ?(\d{1,2}) ?月份?|[./-] ?(\d{1,2}))$', ['y', 'm', 'n'])], lambda p:
        CASE WHEN p.y <> '' THEN zt_date_parts(CAST(p.y AS INTEGER), CAST(coalesce(nullif(p.m, ''), p.n) AS INTEGER), 1) END)[1] END;
CREATE OR REPLACE TEMP MACRO zt_date(s) AS coalesce(zt_date_day(s), zt_date_month(s));
CREATE OR REPLACE TEMP MACRO zt_date_is_month(s) AS coalesce(zt_date_day(s) IS NULL AND zt_date_month(s) IS NOT NULL, false);

CREATE OR REPLACE TEMP MACRO zt_bool(s) AS
    CASE
        WHEN s IN ('是', 'Y', 'y', 'YES', 'Yes', 'yes', '√', '✓', '✔', '1', '1.0', 'TRUE', 'True', 'true', '有', '署名', '实名', '对') THEN true
        WHEN s IN ('否', 'N', 'n', 'NO', 'No', 'no', '×', '✗', '✘', 'X', 'x', '0', '0.0', 'FALSE', 'False', 'false', '无', '匿名', '错') THEN false
    END;

-- Integers: 12, 12.0, 1,234, 12人.
CREATE OR REPLACE TEMP MACRO zt_int(s) AS
    CASE WHEN regexp_full_match(replace(s, ',', ''), '-?\d+(\.0+)? ?(人|个|项|件|名|条)?')
         THEN TRY_CAST(regexp_extract(replace(s, ',', ''), '^-?\d+') AS INTEGER) END;

CREATE OR REPLACE TEMP MACRO zt_number(s) AS
    CASE WHEN regexp_full_match(replace(s, ',', ''), '-?\d+(\.\d+)? ?(分|%)?')
         THEN TRY_CAST(regexp_extract(replace(s, ',', ''), '^-?\d+(\.\d+)?') AS DOUBLE) END;

-- Money in 元: a cell's own unit (1.5万元, 300元) wins over the header's scale (10000 for （万元） headers).
CREATE OR REPLACE TEMP MACRO zt_amount(s, header_scale) AS
    CASE WHEN regexp_full_match(replace(replace(s, ',', ''), '￥', ''), '-?\d+(\.\d+)? ?(万元|万|元)?')
         THEN TRY_CAST(regexp_extract(replace(replace(s, ',', ''), '￥', ''), '^-?\d+(\.\d+)?') AS DOUBLE)
              * CASE regexp_extract(s, '(万元|万|元)$')
                    WHEN '万元' THEN 10000 WHEN '万' THEN 10000 WHEN '元' THEN 1 ELSE header_scale END
    END;

-- Half-years: 2024H1, 2024年上半年, 2024上, 2024-H2, 2024年下半年.
CREATE OR REPLACE TEMP MACRO zt_period(s) AS
    CASE
        WHEN regexp_full_match(replace(s, ' ', ''), '\d{4}(年度?|年)?[-_]?(上半年|上|H1|h1)')
            THEN substr(s, 1, 4) || 'H1'
        WHEN regexp_full_match(replace(s, ' ', ''), '\d{4}(年度?|年)?[-_]?(下半年|下|H2|h2)')
            THEN substr(s, 1, 4) || 'H2'
    END;

-- Register numbers compare without spaces and case: xf-2023-001 and XF 2023 001 are different, XF-2023-001 and xf-2023-001 the same.
CREATE OR REPLACE TEMP MACRO zt_code(s) AS upper(regexp_replace(s, '\s', '', 'g'));

CREATE OR REPLACE TEMP MACRO zt_list(s) AS
    list_filter(list_transform(regexp_split_to_array(s, '[、,;/|]'), lambda x: trim(x)), lambda x: x <> '');

-- Unit names compare without spaces, brackets and case.
CREATE OR REPLACE TEMP MACRO zt_unit_norm(s) AS lower(regexp_replace(s, '[\s()（）·]', '', 'g'));

-- Typed cells are not masked before the SQL (a date must stay a date), so when one is echoed in a rejection
-- or a note any long run of digits goes: whatever it was, it could be an identifier.
CREATE OR REPLACE TEMP MACRO zt_mask_digits(s) AS regexp_replace(s, '[0-9][0-9 ()+-]{5,}[0-9Xx]', '[号码]', 'g');

CREATE OR REPLACE TEMP MACRO zt_id_valid(s) AS regexp_full_match(upper(regexp_replace(s, '\s', '', 'g')), '\d{17}[\dX]|\d{15}');
CREATE OR REPLACE TEMP MACRO zt_phone_valid(s) AS length(regexp_replace(s, '\D', '', 'g')) BETWEEN 7 AND 13;
