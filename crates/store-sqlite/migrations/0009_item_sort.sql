-- A certification's items are listed sorted by access name (`sorters=access.name`), and a page
-- of a large certification sorted that way read and sorted every item of it (tens of
-- milliseconds for ten thousand items, a hundred for seventy thousand). This index holds the
-- items of a certification in that order, so a page is read in order and stops at its end.
-- (One index only: each costs every generation an insert per item.)
--
-- The item's names are never NULL from now on (an item whose access and account have no name
-- sorts as ''), so their order needs no NULLs-last term, which an index could not serve.
UPDATE review_items SET access_name = '' WHERE access_name IS NULL;
UPDATE review_items SET subject_name = '' WHERE subject_name IS NULL;
CREATE INDEX review_items_by_access_name ON review_items (certification_id, access_name, id);
