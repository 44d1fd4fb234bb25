-- description: The menu, one row per item, typed, with a clean category code
-- description: (the POS spells categories inconsistently: STARTERS, " Starters", starters).
-- group: staging
-- owners: data-eng@bistro.example
-- tags: domain=menu, source=pos
with typed as (
  select
    upper(trim(menu_item_id)) as menu_item_id,
    trim(item_name) as item_name,
    regexp_replace(lower(trim(category)), '[^a-z0-9]+', '_', 'g') as category_code,
    lower(trim(category)) as category_lower,
    lower(trim(menu_group)) as menu_group,
    try_cast(trim(price) as decimal(10, 2)) as price,
    try_cast(trim(food_cost) as decimal(10, 2)) as food_cost,
    lower(trim(is_active)) in ('y', 'yes', 'true', '1') as is_active,
    _source_file
  from raw.menu_items
)
select
  menu_item_id,
  item_name,
  category_code,
  upper(category_lower[1]) || category_lower[2:] as category,
  menu_group,
  price,
  food_cost,
  is_active,
  _source_file
from typed
qualify row_number() over (partition by menu_item_id order by _source_file desc) = 1
