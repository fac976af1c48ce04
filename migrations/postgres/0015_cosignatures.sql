-- Witness cosignatures of recorded checkpoints (ADR 0010): one C2SP cosignature/v1 line per
-- checkpoint size and witness key id, accepted only when it verifies with a configured witness
-- key. Served appended to the checkpoint's note: a checkpoint carrying one is "witnessed".
create table vigil.cosignatures (
    size bigint not null,
    key_id bigint not null,
    line text not null,
    added_at bigint not null,
    primary key (size, key_id)
);

create trigger cosignatures_append_only before update or delete on vigil.cosignatures
    for each row execute function vigil.refuse_change();
create trigger cosignatures_no_truncate before truncate on vigil.cosignatures
    for each statement execute function vigil.refuse_change();

grant select, insert on vigil.cosignatures to vigil_log_writer;
