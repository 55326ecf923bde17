-- The reviewer API lists a certification's items in id order, a page at a time: with the
-- certification and the id in one index, a page of a certification of ten thousand items in a
-- campaign of millions reads its 250 rows, not the whole certification.
CREATE INDEX review_items_certification_id ON review_items (certification_id, id);
