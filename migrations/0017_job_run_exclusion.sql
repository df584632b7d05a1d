-- Custom SQL migration file, put your code below! --
-- Filled in by the scheduler work (one run of a job at a time).
SELECT 1;
