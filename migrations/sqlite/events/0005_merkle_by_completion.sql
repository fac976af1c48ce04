-- The Merkle nodes keyed by when they complete (ADR 0009, amended): `done` is the tree size at
-- which the subtree is complete, `(idx + 1) << level`. Keyed by (level, idx), the nodes one
-- append group writes (levels 4, 5, 6, ... of the same few hundred leaves) fell into one B-tree
-- page per level, so every commit dirtied and wrote three to five extra pages to the WAL;
-- keyed by (done, level) they are adjacent, like the events themselves, and share the last
-- page. The CHECK keeps `done` derived, never free. Same rows, same append-only triggers.
create table merkle_nodes_by_done (
    done integer not null check (done = ((idx + 1) << level)),
    level integer not null,
    idx integer not null,
    hash blob not null,
    primary key (done, level)
) without rowid;

insert into merkle_nodes_by_done (done, level, idx, hash)
    select (idx + 1) << level, level, idx, hash from merkle_nodes order by (idx + 1) << level, level;

drop table merkle_nodes;
alter table merkle_nodes_by_done rename to merkle_nodes;

create trigger merkle_nodes_refuse_update before update on merkle_nodes
begin select raise(abort, 'vigil: merkle nodes are append-only'); end;
create trigger merkle_nodes_refuse_delete before delete on merkle_nodes
begin select raise(abort, 'vigil: merkle nodes are append-only'); end;
