-- Witness cosignatures of recorded checkpoints (ADR 0010): one C2SP cosignature/v1 line per
-- checkpoint size and witness key id, accepted only when it verifies with a configured witness
-- key. Served appended to the checkpoint's note: a checkpoint carrying one is "witnessed".
create table cosignatures (
    size integer not null,
    key_id integer not null,
    line text not null,
    added_at integer not null,
    primary key (size, key_id)
);

create trigger cosignatures_refuse_update before update on cosignatures
begin select raise(abort, 'vigil: cosignatures are append-only'); end;
create trigger cosignatures_refuse_delete before delete on cosignatures
begin select raise(abort, 'vigil: cosignatures are append-only'); end;
