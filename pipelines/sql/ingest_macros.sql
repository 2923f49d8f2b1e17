-- Cell normalisation and typing macros used by ingestion (pipelines/ingest/normalise.py builds the
-- per-ledger SELECT from them). TEMP macros: defined per connection, nothing persisted in the warehouse.
-- Every macro returns NULL when it cannot read its input; the caller turns that into a rejection reason.

-- Typed cells arrive cleaned (pipelines/ingest/reader.py clean_column): full-width folded, whitespace
-- collapsed, trimmed, empty → NULL; text cells arrive as written and already masked. The macros below only type them.

-- Placeholders analysts type for "nothing". Words such as NULL, N/A or NaN are not among them: in a typed column
-- they are an unreadable value and get a note, never a silent NULL.
CREATE OR REPLACE TEMP MACRO zt_blank(s) AS
    CASE WHEN s IN ('/', '-', '--', '—', '——', '－', '无') THEN NULL ELSE s END;

-- 2024年3月5日, 2024/3/5, 2024.03.05, 2024-03-05 (with or without a time), 20240305, Excel serials 20000-80000.
-- The pattern is matched once per cell: list_transform binds its parts to p (3x faster than re-matching).
CREATE OR REPLACE TEMP MACRO zt_date_parts(y, m, d) AS
    CASE WHEN y BETWEEN 1000 AND 2999 THEN try(make_date(y, m, d)) END;
CREATE OR REPLACE TEMP MACRO zt_date_day(s) AS
    CASE WHEN s IS NULL THEN NULL ELSE
    list_transform([regexp_extract(s, '^(\d{4}) ?[年./-] ?(\d{1,2}) ?[月./-] ?(\d{1,2}) ?日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$', ['y', 'm', 'd'])], lambda p:
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
-- A date followed by words (2023-01-02 以后再说): the date is read and the words get a note.
CREATE OR REPLACE TEMP MACRO zt_date_lenient(s) AS
    coalesce(zt_date(s), zt_date_day(regexp_extract(s, '^(\d{4} ?[年./-] ?\d{1,2} ?[月./-] ?\d{1,2}) ?日?')));
CREATE OR REPLACE TEMP MACRO zt_date_is_month(s) AS coalesce(zt_date_day(s) IS NULL AND zt_date_month(s) IS NOT NULL, false);

CREATE OR REPLACE TEMP MACRO zt_bool(s) AS
    CASE
        WHEN s IN ('是', 'Y', 'y', 'YES', 'Yes', 'yes', '√', '✓', '✔', '1', '1.0', 'TRUE', 'True', 'true', '有', '署名', '实名', '对') THEN true
        WHEN s IN ('否', 'N', 'n', 'NO', 'No', 'no', '×', '✗', '✘', 'X', 'x', '0', '0.0', 'FALSE', 'False', 'false', '无', '匿名', '错') THEN false
    END;

-- Integers: 12, 12.0, 1,234, 12人 (thousands separators only in groups of three).
CREATE OR REPLACE TEMP MACRO zt_int(s) AS
    CASE WHEN regexp_full_match(s, '-?(\d{1,3}(,\d{3})+|\d+)(\.0+)? ?(人|个|项|件|名|条)?')
         THEN TRY_CAST(regexp_extract(replace(s, ',', ''), '^-?\d+') AS INTEGER) END;

CREATE OR REPLACE TEMP MACRO zt_number(s) AS
    CASE WHEN regexp_full_match(s, '-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)? ?(分|%)?')
         THEN list_transform([TRY_CAST(regexp_extract(replace(s, ',', ''), '^-?\d+(\.\d+)?') AS DOUBLE)],
                             lambda x: CASE WHEN isfinite(x) THEN x END)[1] END;

-- Money in 元, read strictly: 12345.6, 12,345.6, ￥300, 300元, 1.5万元. A cell's own unit wins over the header's
-- scale (10000 for （万元） headers). 1.234,5 (a European separator), 1,2345, NaN, inf and text are unreadable; a
-- negative amount is refused unless the dictionary allows it; a sum of 10 trillion 元 or more is a typo.
CREATE OR REPLACE TEMP MACRO zt_amount_any(s, header_scale) AS
    list_transform([regexp_extract(regexp_replace(s, '^[￥¥] ?', ''), '^(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?) ?(万元|万|元)?$', ['n', 'u'])],
        lambda p: CASE WHEN p.n <> '' THEN TRY_CAST(replace(p.n, ',', '') AS DOUBLE)
            * CASE p.u WHEN '万元' THEN 10000 WHEN '万' THEN 10000 WHEN '元' THEN 1 ELSE header_scale END END)[1];
CREATE OR REPLACE TEMP MACRO zt_amount(s, header_scale, negative := false) AS
    list_transform([zt_amount_any(s, header_scale)],
        lambda x: CASE WHEN isfinite(x) AND abs(x) < 1e13 AND (negative OR x >= 0) THEN x END)[1];
CREATE OR REPLACE TEMP MACRO zt_amount_problem(s, header_scale, negative := false) AS
    list_transform([zt_amount_any(s, header_scale)], lambda x: CASE
        WHEN x IS NULL THEN '无法识别为金额（如 12345.6、12,345.6、1.5万元）'
        WHEN NOT isfinite(x) OR abs(x) >= 1e13 THEN '金额超出合理范围'
        WHEN x < 0 AND NOT negative THEN '金额为负数，而该列不允许负数' END)[1];

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
-- The 18th character of an ID number is a check digit (GB 11643, ISO 7064 MOD 11-2); 15-digit numbers have none.
CREATE OR REPLACE TEMP MACRO zt_id_checksum(s) AS
    list_transform([upper(regexp_replace(s, '\s', '', 'g'))], lambda x: CASE WHEN length(x) <> 18 THEN true ELSE
        substr('10X98765432', CAST(1 + list_sum(list_transform(range(17), lambda i:
            CAST(substr(x, i + 1, 1) AS INTEGER) * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i + 1])) % 11 AS BIGINT), 1)
        = substr(x, 18, 1) END)[1];
-- A name cell holding an ID or phone number (seven digits or more): not a name, and never to be hashed as one.
CREATE OR REPLACE TEMP MACRO zt_has_number(s) AS regexp_matches(s, '\d{7}|\d{3}[ -]\d{4}');
CREATE OR REPLACE TEMP MACRO zt_phone_valid(s) AS length(regexp_replace(s, '\D', '', 'g')) BETWEEN 7 AND 13;
