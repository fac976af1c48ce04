-- Stream ids are identifiers ("health-<uuid>"), so they compare byte by byte: collation "C".
-- Under the database's locale they went through strcoll on every comparison inside the
-- unique (stream_id, stream_version) index that each appended event enters, and PostgreSQL
-- treats even C.UTF-8 as a locale, not as "C". Equality with parameters and literals is
-- unchanged (they take the column's collation), and nothing orders by stream id.
-- Changing only the collation keeps the rows as they are and rebuilds the index.
alter table vigil.events alter column stream_id type text collate "C";
alter table vigil.commands alter column stream_id type text collate "C";
