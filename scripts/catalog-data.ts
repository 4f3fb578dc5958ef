/**
 * A deterministic, realistic catalog: product `i` is always the same product (its own seeded PRNG), so
 * `--count 1000` gives the first 1,000 products of the 100k catalog. Names follow marketplace listings
 * (brand, model, variant, kind), several sellers list the same model, prices are integer cents.
 */

export interface SeedProduct {
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  sellerId: number;
  quantity: number;
}

/** mulberry32: a tiny, well-known 32-bit PRNG; good enough for test data, and stable across Node versions. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

interface Kind {
  category: string;
  noun: string;
  /** [brand, model, base price in dollars] */
  models: Array<[string, string, number]>;
  variants: Array<readonly string[]>;
  features: string[];
}

const colors = ['Black', 'White', 'Silver', 'Blue', 'Red', 'Green', 'Graphite', 'Rose Gold', 'Navy', 'Grey'];

const kinds: Kind[] = [
  {
    category: 'phones', noun: 'Smartphone',
    models: [['Apple', 'iPhone 15', 799], ['Apple', 'iPhone 15 Pro', 999], ['Apple', 'iPhone 14', 699], ['Apple', 'iPhone SE', 429],
      ['Samsung', 'Galaxy S24', 799], ['Samsung', 'Galaxy S24 Ultra', 1299], ['Samsung', 'Galaxy A55', 449], ['Samsung', 'Galaxy Z Flip5', 999],
      ['Google', 'Pixel 8', 699], ['Google', 'Pixel 8 Pro', 999], ['Google', 'Pixel 7a', 499], ['OnePlus', '12', 799],
      ['Xiaomi', 'Redmi Note 13', 299], ['Motorola', 'Moto G Power', 199], ['Nokia', 'G42', 199], ['Sony', 'Xperia 10 V', 449]],
    variants: [['64GB', '128GB', '256GB', '512GB'], colors, ['Unlocked', 'Dual SIM', '5G', 'Renewed']],
    features: ['an OLED display', 'all-day battery life', 'a triple camera system', 'fast wireless charging', 'water resistance'],
  },
  {
    category: 'laptops', noun: 'Laptop',
    models: [['Apple', 'MacBook Air 13', 1099], ['Apple', 'MacBook Pro 14', 1999], ['Dell', 'XPS 13', 1199], ['Dell', 'Inspiron 15', 649],
      ['Lenovo', 'ThinkPad X1 Carbon', 1599], ['Lenovo', 'IdeaPad Slim 5', 699], ['HP', 'Spectre x360', 1399], ['HP', 'Pavilion 15', 599],
      ['Asus', 'ZenBook 14', 899], ['Asus', 'ROG Zephyrus G14', 1599], ['Acer', 'Swift Go 14', 749], ['Microsoft', 'Surface Laptop 5', 999]],
    variants: [['8GB RAM', '16GB RAM', '32GB RAM'], ['256GB SSD', '512GB SSD', '1TB SSD'], colors],
    features: ['a backlit keyboard', 'a bright IPS screen', 'Thunderbolt ports', 'a fingerprint reader', 'a fanless design'],
  },
  {
    category: 'headphones', noun: 'Headphones',
    models: [['Sony', 'WH-1000XM5 Wireless Noise Cancelling', 399], ['Bose', 'QuietComfort Ultra', 429], ['Apple', 'AirPods Pro', 249],
      ['Apple', 'AirPods Max', 549], ['Sennheiser', 'Momentum 4 Wireless', 349], ['JBL', 'Tune 760NC', 129], ['Beats', 'Studio Pro', 349],
      ['Anker', 'Soundcore Life Q30', 79], ['Skullcandy', 'Crusher Evo', 199], ['Audio-Technica', 'ATH-M50x Studio', 169]],
    variants: [colors, ['Over-Ear', 'On-Ear', 'In-Ear', 'Bluetooth']],
    features: ['active noise cancelling', '30-hour battery', 'a carrying case', 'multipoint Bluetooth', 'a built-in microphone'],
  },
  {
    category: 'tvs', noun: 'Smart TV',
    models: [['Samsung', 'QLED Q80C', 999], ['LG', 'OLED C3', 1499], ['Sony', 'Bravia XR A80L', 1699], ['TCL', '6-Series Mini-LED', 699],
      ['Hisense', 'U8K', 899], ['Vizio', 'M-Series Quantum', 499], ['Panasonic', 'MZ1500', 1299]],
    variants: [['43 inch', '50 inch', '55 inch', '65 inch', '75 inch', '85 inch'], ['4K UHD', '8K', 'HDR10+', 'Dolby Vision']],
    features: ['a 120Hz panel', 'HDMI 2.1', 'a voice remote', 'built-in streaming apps', 'local dimming'],
  },
  {
    category: 'cameras', noun: 'Camera',
    models: [['Canon', 'EOS R6 Mark II', 2499], ['Canon', 'EOS R50', 679], ['Nikon', 'Z6 II', 1999], ['Nikon', 'Z50', 859],
      ['Sony', 'Alpha a7 IV', 2499], ['Fujifilm', 'X-T5', 1699], ['GoPro', 'HERO12 Black', 399], ['Panasonic', 'Lumix GH6', 1999]],
    variants: [['Body Only', 'with 24-105mm Lens', 'with 18-55mm Kit Lens'], ['Mirrorless', 'Action', 'Vlogging Kit']],
    features: ['in-body stabilisation', '4K60 video', 'a weather-sealed body', 'dual card slots', 'fast autofocus'],
  },
  {
    category: 'kitchen', noun: '',
    models: [['KitchenAid', 'Artisan Stand Mixer', 449], ['Ninja', 'Air Fryer Max XL', 129], ['Instant Pot', 'Duo 7-in-1 Pressure Cooker', 99],
      ['Breville', 'Barista Express Espresso Machine', 699], ['Vitamix', 'E310 Blender', 349], ['Le Creuset', 'Dutch Oven', 419],
      ['Cuisinart', 'Food Processor', 199], ['Nespresso', 'Vertuo Coffee Maker', 179], ['Lodge', 'Cast Iron Skillet', 29], ['OXO', 'Chef Knife', 39]],
    variants: [colors, ['3 Quart', '5 Quart', '6 Quart', '8 Quart', '10 inch', '12 inch']],
    features: ['dishwasher-safe parts', 'a two-year warranty', 'easy cleaning', 'a compact footprint', 'stainless steel'],
  },
  {
    category: 'shoes', noun: 'Shoes',
    models: [['Nike', 'Air Zoom Pegasus 40 Running', 129], ['Nike', 'Air Force 1', 110], ['Adidas', 'Ultraboost Light Running', 189],
      ['Adidas', 'Samba OG', 100], ['New Balance', '990v6', 199], ['Asics', 'Gel-Kayano 30', 159], ['Hoka', 'Clifton 9', 144],
      ['Converse', 'Chuck Taylor All Star', 60], ['Vans', 'Old Skool', 70], ['Birkenstock', 'Arizona Sandals', 110]],
    variants: [["Men's", "Women's", 'Kids'], ['Size 6', 'Size 7', 'Size 8', 'Size 9', 'Size 10', 'Size 11', 'Size 12'], colors],
    features: ['a cushioned midsole', 'a breathable mesh upper', 'a rubber outsole', 'a true-to-size fit', 'recycled materials'],
  },
  {
    category: 'clothing', noun: '',
    models: [["Levi's", '501 Original Fit Jeans', 79], ['Patagonia', 'Better Sweater Fleece Jacket', 149], ['The North Face', 'Nuptse Puffer Jacket', 320],
      ['Uniqlo', 'Supima Cotton T-Shirt', 20], ['Carhartt', 'Midweight Hoodie', 60], ['Columbia', 'Rain Jacket', 90],
      ['Champion', 'Reverse Weave Sweatshirt', 65], ['Ralph Lauren', 'Oxford Shirt', 110]],
    variants: [["Men's", "Women's"], ['XS', 'S', 'M', 'L', 'XL', 'XXL'], colors],
    features: ['organic cotton', 'a relaxed fit', 'machine washable fabric', 'reinforced seams', 'a water-repellent finish'],
  },
  {
    category: 'gaming', noun: '',
    models: [['Sony', 'PlayStation 5 Console', 499], ['Microsoft', 'Xbox Series X Console', 499], ['Nintendo', 'Switch OLED Console', 349],
      ['Sony', 'DualSense Wireless Controller', 69], ['Logitech', 'G Pro X Superlight Mouse', 159], ['Razer', 'BlackWidow V4 Keyboard', 169],
      ['SteelSeries', 'Arctis Nova 7 Gaming Headset', 179], ['Meta', 'Quest 3 VR Headset', 499], ['Valve', 'Steam Deck OLED', 549]],
    variants: [['Standard Edition', 'Digital Edition', 'Bundle', 'Limited Edition'], colors],
    features: ['low-latency wireless', 'RGB lighting', 'haptic feedback', 'a 1TB drive', 'a rechargeable battery'],
  },
  {
    category: 'toys', noun: '',
    models: [['LEGO', 'Star Wars Millennium Falcon', 169], ['LEGO', 'Technic Bugatti Chiron', 449], ['LEGO', 'City Fire Station', 99],
      ['Barbie', 'Dreamhouse Playset', 199], ['Hot Wheels', 'Mega Track Set', 59], ['Nerf', 'Elite 2.0 Blaster', 29],
      ['Rubik\'s', 'Cube 3x3', 12], ['Melissa & Doug', 'Wooden Puzzle', 19], ['Hasbro', 'Monopoly Board Game', 24]],
    variants: [['Ages 4+', 'Ages 6+', 'Ages 8+', 'Ages 12+'], ['Gift Set', 'Starter Set', 'Deluxe Set']],
    features: ['hours of play', 'safety-tested materials', 'step-by-step instructions', 'collectible pieces', 'a gift-ready box'],
  },
  {
    category: 'sports', noun: '',
    models: [['Garmin', 'Forerunner 265 GPS Running Watch', 449], ['Fitbit', 'Charge 6 Fitness Tracker', 159], ['Bowflex', 'SelectTech Adjustable Dumbbells', 429],
      ['Manduka', 'PRO Yoga Mat', 129], ['Wilson', 'Pro Staff Tennis Racket', 249], ['Spalding', 'NBA Official Basketball', 59],
      ['Yeti', 'Rambler Water Bottle', 45], ['Coleman', 'Sundome Camping Tent', 89], ['Trek', 'Marlin 5 Mountain Bike', 799]],
    variants: [colors, ['Small', 'Medium', 'Large', 'One Size']],
    features: ['a lightweight build', 'durable materials', 'an ergonomic grip', 'all-weather use', 'a lifetime warranty'],
  },
  {
    category: 'home', noun: '',
    models: [['Herman Miller', 'Aeron Office Chair', 1395], ['Flexispot', 'E7 Standing Desk', 499], ['Dyson', 'V15 Detect Cordless Vacuum', 749],
      ['iRobot', 'Roomba j7+ Robot Vacuum', 599], ['Philips', 'Hue Smart Bulb Starter Kit', 199], ['Casper', 'Original Foam Mattress', 1095],
      ['Brooklinen', 'Luxe Sheet Set', 179], ['Levoit', 'Core 300 Air Purifier', 99], ['Nest', 'Learning Thermostat', 249]],
    variants: [colors, ['Twin', 'Full', 'Queen', 'King', 'Standard']],
    features: ['quick assembly', 'smart-home support', 'quiet operation', 'an energy-saving mode', 'premium materials'],
  },
  {
    category: 'tools', noun: '',
    models: [['DeWalt', '20V MAX Cordless Drill', 159], ['Makita', 'Impact Driver Kit', 199], ['Bosch', 'Laser Measure', 99],
      ['Milwaukee', 'M18 Circular Saw', 229], ['Black+Decker', 'Electric Hedge Trimmer', 69], ['Ryobi', 'ONE+ Leaf Blower', 129],
      ['Stanley', 'Mechanics Tool Set', 89], ['Craftsman', 'Rolling Tool Chest', 349]],
    variants: [['Tool Only', 'with Battery', 'with 2 Batteries and Charger', 'Kit'], ['Yellow', 'Red', 'Black', 'Green']],
    features: ['a brushless motor', 'a variable speed trigger', 'an LED work light', 'a hard carrying case', 'a belt clip'],
  },
  {
    category: 'beauty', noun: '',
    models: [['Dyson', 'Airwrap Multi-Styler', 599], ['Philips', 'Sonicare Electric Toothbrush', 99], ['CeraVe', 'Moisturizing Cream', 19],
      ['The Ordinary', 'Niacinamide Serum', 12], ['Olaplex', 'No.3 Hair Perfector', 30], ['Braun', 'Series 9 Electric Shaver', 299],
      ['Neutrogena', 'Hydro Boost Gel', 24], ['Revlon', 'One-Step Hair Dryer', 45]],
    variants: [['Travel Size', 'Standard Size', 'Value Pack', 'Gift Set'], ['Unscented', 'Fragrance Free', 'Original']],
    features: ['dermatologist-tested formulas', 'cruelty-free ingredients', 'salon results at home', 'a cordless design', 'gentle care'],
  },
];

const bookAdjectives = ['Silent', 'Hidden', 'Last', 'Broken', 'Golden', 'Midnight', 'Forgotten', 'Wild', 'Quiet', 'Burning', 'Lost', 'Secret'];
const bookNouns = ['Garden', 'River', 'Kingdom', 'Library', 'Ocean', 'Mountain', 'House', 'Letter', 'Empire', 'Island', 'Orchard', 'Atlas'];
const authors = ['Emily Hart', 'James Okafor', 'Sofia Lindqvist', 'Daniel Moreau', 'Aiko Tanaka', 'Maria Costa', 'Liam Walsh', 'Priya Nair'];
const bookFormats = ['Hardcover', 'Paperback', 'Kindle Edition', 'Audiobook'];
const bookGenres = ['mystery', 'fantasy', 'science fiction', 'romance', 'history', 'biography', 'thriller', 'cookbook'];

const sellerFirst = ['Northwind', 'Blue Harbor', 'Summit', 'Maple', 'Urban', 'Pioneer', 'Evergreen', 'Golden Gate', 'Redwood', 'Atlas'];
const sellerSecond = ['Traders', 'Outlet', 'Direct', 'Supply Co', 'Electronics', 'Goods', 'Market', 'Depot', 'Store', 'Wholesale'];
export const sellerCount = sellerFirst.length * sellerSecond.length;
export const sellerName = (id: number) => `${sellerFirst[(id - 1) % 10]} ${sellerSecond[Math.floor((id - 1) / 10) % 10]}`;

const toCents = (dollars: number) => Math.max(99, Math.round(dollars) * 100 - 1);

function book(r: Rand): Omit<SeedProduct, 'sku' | 'sellerId' | 'quantity'> {
  const title = `The ${pick(r, bookAdjectives)} ${pick(r, bookNouns)}`;
  const author = pick(r, authors);
  const format = pick(r, bookFormats);
  const genre = pick(r, bookGenres);
  return {
    name: `${title} by ${author} (${format})`,
    description: `A ${genre} title by ${author}. ${format} edition, ${200 + Math.floor(r() * 500)} pages.`,
    category: 'books',
    priceCents: toCents(8 + r() * 30),
  };
}

/** The i-th product of the catalog (0-based); the same for the same i, always. */
export function catalogProduct(i: number): SeedProduct {
  const r = rng(0x5eed0000 ^ Math.imul(i + 1, 2654435761));
  const sellerId = 1 + Math.floor(r() * sellerCount);
  const quantity = r() < 0.15 ? 0 : 1 + Math.floor(r() * 500);
  const sku = `SEED-${String(i + 1).padStart(7, '0')}`;
  const kindIndex = Math.floor(r() * (kinds.length + 1));
  if (kindIndex === kinds.length) return { sku, sellerId, quantity, ...book(r) };
  const kind = kinds[kindIndex]!;
  const [brand, model, base] = pick(r, kind.models);
  const chosen = kind.variants.map((v) => pick(r, v));
  const name = [brand, model, ...chosen.slice(0, 2), kind.noun].filter(Boolean).join(' ').concat(chosen[2] ? ` - ${chosen[2]}` : '');
  const feats = [pick(r, kind.features), pick(r, kind.features)];
  const description =
    `${brand} ${model} ${kind.noun || kind.category} with ${feats[0]}` + (feats[1] !== feats[0] ? ` and ${feats[1]}` : '') +
    `. ${chosen.join(', ')}. Sold by ${sellerName(sellerId)}.`;
  const priceCents = toCents(base * (0.85 + r() * 0.3) * (1 + kind.variants[0]!.indexOf(chosen[0]!) * 0.08));
  return { sku, name, description, category: kind.category, priceCents, sellerId, quantity };
}

export const categories = [...kinds.map((k) => k.category), 'books'];
