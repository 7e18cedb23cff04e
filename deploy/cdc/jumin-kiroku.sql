-- 住民記録システム（既存）の住民テーブル — the legacy table of the demo department database that
-- `renkei stack up --cdc` creates, and the shape deploy/mappings/jumin-kiroku-cdc.yaml reads.
-- One row per resident; the resident's latest 異動 (reason, date, 連番) is written INTO the row,
-- as legacy registry systems do. A 消除 (転出, 死亡) is recorded in the row (joutai), the row
-- stays (除票): rows are not deleted in normal operation.
-- Run with psql -v cdc_user=<the connector's database user>. Idempotent.
CREATE TABLE IF NOT EXISTS public.jumin_kiroku (
  atena_no         varchar(15)  PRIMARY KEY,          -- 団体内統合宛名番号
  ido_jiyu         varchar(20)  NOT NULL,             -- 異動事由 (転入, 出生, 転居, 転出, 死亡, 世帯変更, 誤記修正 …)
  ido_ymd          date         NOT NULL,             -- 異動日 (the legal date of the 異動)
  ido_renban       integer      NOT NULL DEFAULT 1,   -- 異動連番 (per resident, +1 per 異動)
  shi              varchar(40),                       -- 氏
  mei              varchar(40),                       -- 名
  shi_kana         varchar(40),                       -- 氏カナ (half-width kana as recorded)
  mei_kana         varchar(40),                       -- 名カナ
  seinengappi      varchar(20),                       -- 生年月日 as recorded (和暦: S55.04.01)
  seibetsu         char(1),                           -- 性別 1 男 2 女
  jumin_shubetsu   char(1),                           -- 1 日本人住民 2 外国人住民
  yubin_no         varchar(8),                        -- 郵便番号
  jusho            varchar(200),                      -- 住所
  katagaki         varchar(100),                      -- 方書
  setai_no         varchar(10),                       -- 世帯番号
  zokugara         varchar(40),                       -- 続柄
  zen_jusho_cd     varchar(6),                        -- 前住所 市町村コード (転入)
  zen_jusho        varchar(200),                      -- 前住所 (転入)
  tenshutsu_cd     varchar(6),                        -- 転出先 市町村コード (転出)
  tenshutsu_jusho  varchar(200),                      -- 転出先住所 (転出)
  joutai           char(1)      NOT NULL DEFAULT '1', -- 状態 1 住民 2 転出 3 死亡
  shien_sochi      char(1)      DEFAULT '0',          -- 支援措置 1 対象 0 対象外 (NULL: not recorded)
  koushin_tanmatsu varchar(20)                        -- 更新端末 (not mapped: an UPDATE of it alone is no 異動)
);
-- UPDATE events must carry the old row: without it an UPDATE cannot be told from a new 異動.
ALTER TABLE public.jumin_kiroku REPLICA IDENTITY FULL;
GRANT USAGE ON SCHEMA public TO :"cdc_user";
GRANT SELECT ON public.jumin_kiroku TO :"cdc_user";
