public enum _PlaceholderIntakeTesting {}
