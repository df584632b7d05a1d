-- Custom SQL migration file, put your code below! --
-- Filled in by the reporting work (store time kept after deletion).
SELECT 1;
