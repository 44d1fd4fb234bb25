/**
 * The fixed reference data of the simulated restaurant group: its locations, its menu and the
 * jobs on the schedule. Transactions are sampled around these; the seed only changes the days.
 */

/** A restaurant in the group. */
export interface Location {
  readonly id: string;
  readonly name: string;
  readonly city: string;
  readonly state: string;
  readonly timezone: string;
  readonly openedOn: string;
  readonly seats: number;
  /** Opening and closing hour, local time (decimal hours). */
  readonly opens: number;
  readonly closes: number;
  /** Sales tax rate in basis points. */
  readonly taxBps: number;
  /** Relative busyness: 1 means about 130 orders on an average weekday. */
  readonly volume: number;
}

/** The six locations. */
export const LOCATIONS: readonly Location[] = [
  {
    id: 'L001', name: 'Bistro Back Bay', city: 'Boston', state: 'MA', timezone: 'America/New_York',
    openedOn: '2019-04-12', seats: 96, opens: 11, closes: 22, taxBps: 700, volume: 1.15,
  },
  {
    id: 'L002', name: 'Bistro Wicker Park', city: 'Chicago', state: 'IL', timezone: 'America/Chicago',
    openedOn: '2020-09-01', seats: 110, opens: 11, closes: 23, taxBps: 1025, volume: 1.25,
  },
  {
    id: 'L003', name: 'Bistro LoDo', city: 'Denver', state: 'CO', timezone: 'America/Denver',
    openedOn: '2021-03-19', seats: 84, opens: 11.5, closes: 22, taxBps: 881, volume: 0.9,
  },
  {
    id: 'L004', name: 'Bistro Mission', city: 'San Francisco', state: 'CA', timezone: 'America/Los_Angeles',
    openedOn: '2018-11-02', seats: 72, opens: 11, closes: 22, taxBps: 863, volume: 1.0,
  },
  {
    id: 'L005', name: 'Bistro Pearl District', city: 'Portland', state: 'OR', timezone: 'America/Los_Angeles',
    openedOn: '2022-06-15', seats: 64, opens: 11.5, closes: 21.5, taxBps: 0, volume: 0.7,
  },
  {
    id: 'L006', name: 'Bistro South Congress', city: 'Austin', state: 'TX', timezone: 'America/Chicago',
    openedOn: '2023-02-24', seats: 120, opens: 11, closes: 23, taxBps: 825, volume: 1.1,
  },
];

/** A dish or drink on the menu. */
export interface MenuItem {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly menuGroup: 'Food' | 'Beverage' | 'Alcohol';
  readonly priceCents: number;
  /** Plate cost as a share of the price. */
  readonly costShare: number;
  /** Relative popularity inside its category. */
  readonly popularity: number;
  readonly active: boolean;
}

type Dish = readonly [name: string, dollars: number, popularity: number];

interface Category {
  readonly name: string;
  readonly menuGroup: MenuItem['menuGroup'];
  readonly costShare: number;
  readonly dishes: readonly Dish[];
}

const CATEGORIES: readonly Category[] = [
  {
    name: 'Starters', menuGroup: 'Food', costShare: 0.3,
    dishes: [
      ['Truffle Fries', 9, 5], ['Crispy Calamari', 14, 3], ['Burrata & Heirloom Tomato', 15, 2], ['Chicken Wings', 13, 4],
      ['Spinach Artichoke Dip', 12, 2], ['Tuna Tartare', 17, 1.5], ['Soup of the Day', 8, 2],
    ],
  },
  {
    name: 'Salads', menuGroup: 'Food', costShare: 0.27,
    dishes: [['Caesar Salad', 12, 4], ['Kale & Quinoa Bowl', 14, 2], ['Cobb Salad', 16, 2], ['Roasted Beet Salad', 13, 1.5], ['Greek Salad', 12, 1.5]],
  },
  {
    name: 'Mains', menuGroup: 'Food', costShare: 0.32,
    dishes: [
      ['Steak Frites', 34, 3], ['Pan-Seared Salmon', 29, 3], ['Roast Half Chicken', 25, 3], ['Mushroom Risotto', 22, 2], ['Short Rib', 32, 2],
      ['Shrimp & Grits', 27, 1.5], ['Fish, Chips & Mushy Peas', 23, 2], ['Rigatoni Bolognese', 21, 3], ['Pork Chop', 28, 1],
      ['Vegetable Curry', 19, 1.5],
    ],
  },
  {
    name: 'Burgers & Sandwiches', menuGroup: 'Food', costShare: 0.3,
    dishes: [
      ['Classic Burger', 17, 5], ['The "Big Bistro" Burger', 21, 2], ['Impossible Burger', 18, 2], ['Fried Chicken Sandwich', 16, 3],
      ['French Dip', 18, 1.5], ['Turkey Club', 15, 1.5], ['Grilled Cheese & Tomato Soup', 13, 1],
    ],
  },
  {
    name: 'Pizza', menuGroup: 'Food', costShare: 0.3,
    dishes: [
      ['Margherita Pizza', 16, 4], ['Pepperoni Pizza', 18, 4], ['Wild Mushroom Pizza', 19, 1.5], ['Hot Honey Soppressata Pizza', 20, 2],
      ['Veggie Pizza', 17, 1],
    ],
  },
  {
    name: 'Sides', menuGroup: 'Food', costShare: 0.25,
    dishes: [['House Fries', 6, 5], ['Mac & Cheese', 9, 3], ['Grilled Broccolini', 8, 1.5], ['Side Salad', 6, 2], ['Garlic Bread', 6, 2]],
  },
  {
    name: 'Desserts', menuGroup: 'Food', costShare: 0.28,
    dishes: [['Chocolate Lava Cake', 11, 3], ['Creme Brulee', 10, 2], ['NY Cheesecake', 10, 2], ['Seasonal Fruit Crisp', 10, 1], ['Affogato', 8, 1.5]],
  },
  {
    name: 'Non-Alcoholic', menuGroup: 'Beverage', costShare: 0.15,
    dishes: [
      ['Fountain Soda', 3.5, 5], ['Iced Tea', 3.5, 3], ['Fresh Lemonade', 5, 2], ['Sparkling Water', 4, 2], ['Cold Brew', 5, 1.5],
      ['Kombucha', 6, 1],
    ],
  },
  {
    name: 'Beer', menuGroup: 'Alcohol', costShare: 0.24,
    dishes: [['Draft IPA', 8, 4], ['Draft Lager', 7, 3], ['Hazy Pale Ale', 8, 2], ['Stout', 8, 1], ['Hard Seltzer', 7, 1.5]],
  },
  {
    name: 'Wine', menuGroup: 'Alcohol', costShare: 0.3,
    dishes: [
      ['House Red (glass)', 11, 3], ['House White (glass)', 11, 3], ['Prosecco (glass)', 12, 2], ['Pinot Noir (glass)', 15, 1.5],
      ['Cabernet (bottle)', 58, 0.5],
    ],
  },
  {
    name: 'Cocktails', menuGroup: 'Alcohol', costShare: 0.2,
    dishes: [
      ['Old Fashioned', 14, 3], ['Margarita', 13, 3], ['Espresso Martini', 15, 2.5], ['Aperol Spritz', 13, 2], ['Seasonal Mule', 13, 1.5],
      ['Zero-Proof Spritz', 9, 1],
    ],
  },
];

/** The menu, about 65 items; one is discontinued and never sold. */
export const MENU_ITEMS: readonly MenuItem[] = CATEGORIES.flatMap((category, c) =>
  category.dishes.map(([name, dollars, popularity], i): MenuItem => ({
    id: `MI-${1000 + (c + 1) * 100 + i + 1}`,
    name,
    category: category.name,
    menuGroup: category.menuGroup,
    priceCents: Math.round(dollars * 100),
    costShare: category.costShare,
    popularity,
    active: name !== 'Pork Chop',
  })),
);

/** A job on the schedule. */
export interface Role {
  readonly title: string;
  /** Hourly rate range in cents (tipped roles earn a low base). */
  readonly minRateCents: number;
  readonly maxRateCents: number;
  /** Staff on this job at an average location, and shifts they work per day. */
  readonly headcount: number;
  readonly shiftsPerDay: number;
}

/** The jobs at every location. */
export const ROLES: readonly Role[] = [
  { title: 'Server', minRateCents: 725, maxRateCents: 1100, headcount: 10, shiftsPerDay: 6 },
  { title: 'Bartender', minRateCents: 900, maxRateCents: 1300, headcount: 4, shiftsPerDay: 2 },
  { title: 'Host', minRateCents: 1500, maxRateCents: 1750, headcount: 3, shiftsPerDay: 2 },
  { title: 'Line Cook', minRateCents: 1900, maxRateCents: 2400, headcount: 6, shiftsPerDay: 4 },
  { title: 'Prep Cook', minRateCents: 1700, maxRateCents: 2000, headcount: 2, shiftsPerDay: 1 },
  { title: 'Dishwasher', minRateCents: 1600, maxRateCents: 1800, headcount: 3, shiftsPerDay: 2 },
  { title: 'Manager', minRateCents: 2800, maxRateCents: 3600, headcount: 2, shiftsPerDay: 1 },
];

/** First names combined into employee names. */
export const FIRST_NAMES = [
  'Ana', 'Ben', 'Carla', 'Dev', 'Elena', 'Felix', 'Grace', 'Hugo', 'Iris', 'Jamal', 'Kenji', 'Lena', 'Marco',
  'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tariq', 'Uma', 'Victor', 'Wen', 'Yara', 'Zoe',
] as const;

/** Last names combined into employee names. */
export const LAST_NAMES = [
  'Alvarez', 'Brooks', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Johnson',
  'Kim', 'Lopez', 'Moreau', 'Nguyen', 'Okafor', 'Patel', 'Reyes', 'Silva', 'Tanaka', 'Walsh',
] as const;
