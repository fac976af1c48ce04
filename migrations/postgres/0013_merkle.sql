-- The Merkle tree over the log (ADR 0009): the hash of every perfect subtree of 16 leaves or
-- more (level >= 4), written in the same statement as the events that complete it, under the
-- chain-head lock. Subtrees below level 4 are hashed from the events' own chain hashes. Leaf i
-- is the event at position i + 1. Existing logs are backfilled when the store opens.
create table vigil.merkle_nodes (
    level integer not null,
    idx bigint not null,
    hash bytea not null,
    primary key (level, idx)
);

create trigger merkle_nodes_append_only before update or delete on vigil.merkle_nodes
    for each row execute function vigil.refuse_change();
create trigger merkle_nodes_no_truncate before truncate on vigil.merkle_nodes
    for each statement execute function vigil.refuse_change();

grant select, insert on vigil.merkle_nodes to vigil_log_writer;
